//! SQLite implementation of [`DiaryRepo`]: the `diary_entries` and `diary_goals` tables.
//!
//! Durability: each write is one transaction on a connection set to `synchronous = FULL`, so in
//! WAL mode the commit is fsynced before the call returns — an acknowledged diary write survives
//! a power cut, not only a crash (the pool's default, NORMAL, may lose the last commits on power
//! loss). The setting stays on that pooled connection, which only makes its later writes
//! stricter.

use async_trait::async_trait;
use sqlx::{Connection, Row, SqlitePool, pool::PoolConnection, sqlite::SqliteRow};
use tracing::{instrument::WithSubscriber, subscriber::NoSubscriber};

use crate::food::diary::{ClockTime, DiaryDate, Entry, Goals, Meal, Measure};
use crate::food::nutrients::NutrientKey;
use crate::ports::{DiaryRepo, StorageError};

/// The columns an [`Entry`] is read from (a macro: sqlx takes only literal SQL).
macro_rules! select_entries {
    ($rest:literal) => {
        concat!(
            "SELECT id, date, time, meal, note, amount, unit, grams, serving_description, ",
            "nutrients, food, logged_at, updated_at FROM diary_entries ",
            $rest
        )
    };
}

#[derive(Clone)]
pub struct SqliteDiaryRepo {
    pool: SqlitePool,
}

impl SqliteDiaryRepo {
    pub fn new(pool: SqlitePool) -> SqliteDiaryRepo {
        SqliteDiaryRepo { pool }
    }

    /// A pooled connection whose commits are fsynced.
    async fn durable(&self) -> Result<PoolConnection<sqlx::Sqlite>, StorageError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await?;
        Ok(conn)
    }
}

/// A stored enum value (`"g"`, `"usda"`) back through its serde name.
fn from_name<T: serde::de::DeserializeOwned>(name: String) -> Result<T, StorageError> {
    Ok(serde_json::from_value(serde_json::Value::String(name))?)
}

fn name_of<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(name) => Ok(name),
        other => Err(StorageError(format!("{other} is not a name"))),
    }
}

fn corrupt(what: &str, err: impl std::fmt::Display) -> StorageError {
    StorageError(format!("corrupt diary {what}: {err}"))
}

fn entry_from_row(row: &SqliteRow) -> Result<Entry, StorageError> {
    let date: String = row.try_get("date")?;
    let time: Option<String> = row.try_get("time")?;
    let meal: Option<String> = row.try_get("meal")?;
    let nutrients: String = row.try_get("nutrients")?;
    let food: String = row.try_get("food")?;
    Ok(Entry {
        id: row.try_get("id")?,
        date: DiaryDate::parse("date", &date).map_err(|e| corrupt("date", e))?,
        time: time
            .map(|t| ClockTime::parse("time", &t))
            .transpose()
            .map_err(|e| corrupt("time", e))?,
        meal: meal
            .map(|m| Meal::from_key(&m).ok_or_else(|| corrupt("meal", m)))
            .transpose()?,
        note: row.try_get("note")?,
        food: serde_json::from_str(&food)?,
        measure: Measure {
            amount: row.try_get("amount")?,
            unit: from_name(row.try_get("unit")?)?,
            grams: row.try_get("grams")?,
            serving_description: row.try_get("serving_description")?,
            nutrients: serde_json::from_str(&nutrients)?,
        },
        logged_at: row.try_get("logged_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// An entry's columns that need converting before they are bound.
struct Stored {
    date: String,
    time: Option<String>,
    meal: Option<&'static str>,
    unit: String,
    nutrients: String,
    food: String,
}

impl Stored {
    fn of(entry: &Entry) -> Result<Stored, StorageError> {
        Ok(Stored {
            date: entry.date.to_string(),
            time: entry.time.map(|t| t.to_string()),
            meal: entry.meal.map(Meal::as_str),
            unit: name_of(&entry.measure.unit)?,
            nutrients: serde_json::to_string(&entry.measure.nutrients)?,
            food: serde_json::to_string(&entry.food)?,
        })
    }
}

#[async_trait]
impl DiaryRepo for SqliteDiaryRepo {
    #[tracing::instrument(name = "storage.entries_between", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "diary_entries"))]
    async fn entries_between(
        &self,
        from: DiaryDate,
        to: DiaryDate,
    ) -> Result<Vec<Entry>, StorageError> {
        let rows = sqlx::query(select_entries!(
            "WHERE date BETWEEN ? AND ? ORDER BY date, seq"
        ))
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .with_subscriber(NoSubscriber::default())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    #[tracing::instrument(name = "storage.entry", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "diary_entries"))]
    async fn entry(&self, id: &str) -> Result<Option<Entry>, StorageError> {
        let row = sqlx::query(select_entries!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .with_subscriber(NoSubscriber::default())
            .await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    #[tracing::instrument(name = "storage.insert_entries", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "INSERT", db.table = "diary_entries"))]
    async fn insert_entries(&self, entries: &[Entry]) -> Result<(), StorageError> {
        async {
            let mut conn = self.durable().await?;
            let mut tx = conn.begin().await?;
            for entry in entries {
                let stored = Stored::of(entry)?;
                sqlx::query(
                    "INSERT INTO diary_entries (id, date, time, meal, note, source, food_id, name, brand,
                         amount, unit, grams, serving_description, nutrients, food, logged_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&entry.id)
                .bind(stored.date)
                .bind(stored.time)
                .bind(stored.meal)
                .bind(&entry.note)
                .bind(entry.food.source.as_str())
                .bind(&entry.food.id)
                .bind(&entry.food.name)
                .bind(&entry.food.brand)
                .bind(entry.measure.amount)
                .bind(stored.unit)
                .bind(entry.measure.grams)
                .bind(&entry.measure.serving_description)
                .bind(stored.nutrients)
                .bind(stored.food)
                .bind(entry.logged_at)
                .bind(entry.updated_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .with_subscriber(NoSubscriber::default())
        .await
    }

    #[tracing::instrument(name = "storage.update_entry", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "UPDATE", db.table = "diary_entries"))]
    async fn update_entry(&self, entry: &Entry) -> Result<bool, StorageError> {
        let stored = Stored::of(entry)?;
        async {
            let mut conn = self.durable().await?;
            // The snapshot (`food`, source, name) never changes: only what the person may edit.
            let done = sqlx::query(
                "UPDATE diary_entries SET date = ?, time = ?, meal = ?, note = ?, amount = ?, unit = ?,
                     grams = ?, serving_description = ?, nutrients = ?, updated_at = ?
                 WHERE id = ?",
            )
            .bind(stored.date)
            .bind(stored.time)
            .bind(stored.meal)
            .bind(&entry.note)
            .bind(entry.measure.amount)
            .bind(stored.unit)
            .bind(entry.measure.grams)
            .bind(&entry.measure.serving_description)
            .bind(stored.nutrients)
            .bind(entry.updated_at)
            .bind(&entry.id)
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() == 1)
        }
        .with_subscriber(NoSubscriber::default())
        .await
    }

    #[tracing::instrument(name = "storage.delete_entry", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "DELETE", db.table = "diary_entries"))]
    async fn delete_entry(&self, id: &str) -> Result<bool, StorageError> {
        async {
            let mut conn = self.durable().await?;
            let done = sqlx::query("DELETE FROM diary_entries WHERE id = ?")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        }
        .with_subscriber(NoSubscriber::default())
        .await
    }

    #[tracing::instrument(name = "storage.goals", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "SELECT", db.table = "diary_goals"))]
    async fn goals(&self) -> Result<Goals, StorageError> {
        let rows = sqlx::query("SELECT nutrient, target FROM diary_goals")
            .fetch_all(&self.pool)
            .with_subscriber(NoSubscriber::default())
            .await?;
        rows.iter()
            .map(|row| {
                let key: String = row.try_get("nutrient")?;
                let nutrient =
                    NutrientKey::from_key(&key).ok_or_else(|| corrupt("goal nutrient", &key))?;
                Ok((nutrient, row.try_get("target")?))
            })
            .collect()
    }

    #[tracing::instrument(name = "storage.put_goals", level = "debug", skip_all, fields(db.system = "sqlite", db.operation = "REPLACE", db.table = "diary_goals"))]
    async fn put_goals(&self, goals: &Goals, at: i64) -> Result<(), StorageError> {
        async {
            let mut conn = self.durable().await?;
            let mut tx = conn.begin().await?;
            sqlx::query("DELETE FROM diary_goals")
                .execute(&mut *tx)
                .await?;
            for (nutrient, target) in goals {
                sqlx::query(
                    "INSERT INTO diary_goals (nutrient, target, updated_at) VALUES (?, ?, ?)",
                )
                .bind(nutrient.key())
                .bind(target)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .with_subscriber(NoSubscriber::default())
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::food::diary::NewEntry;
    use crate::food::model::{Basis, Food, Source};
    use crate::food::units::Unit;

    async fn repo() -> (tempfile::TempDir, SqliteDiaryRepo) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::storage::open(&dir.path().join("diary.db"))
            .await
            .unwrap();
        (dir, SqliteDiaryRepo::new(pool))
    }

    fn entry(id: &str, date: &str) -> Entry {
        let food = Food {
            id: "custom:0123456789abcdef".into(),
            source: Source::Custom,
            name: "Overnight oats".into(),
            brand: Some("Home".into()),
            category: None,
            data_type: None,
            basis: Basis::PerServing {
                amount: 1.0,
                unit: Unit::Cup,
            },
            nutrients: [(NutrientKey::Calories, 300.0), (NutrientKey::FiberG, 8.0)].into(),
            portions: vec![],
            serving: None,
        };
        NewEntry {
            time: Some(ClockTime::parse("time", "07:45").unwrap()),
            meal: Some(Meal::Breakfast),
            note: Some("with berries".into()),
            measure: Measure::of(&food, 1.5, Unit::Cup).unwrap().0,
            food,
        }
        .into_entry(
            id.into(),
            DiaryDate::parse("date", date).unwrap(),
            1_773_500_000,
        )
    }

    #[tokio::test]
    async fn entries_and_goals_round_trip() {
        let (_dir, repo) = repo().await;
        let a = entry("entry:a", "2026-03-14");
        let b = entry("entry:b", "2026-03-15");
        repo.insert_entries(&[a.clone(), b.clone()]).await.unwrap();
        assert_eq!(repo.entry("entry:a").await.unwrap(), Some(a.clone()));
        let day = |t: &str| DiaryDate::parse("date", t).unwrap();
        let both = repo
            .entries_between(day("2026-03-14"), day("2026-03-15"))
            .await
            .unwrap();
        assert_eq!(both, [a.clone(), b.clone()]);

        let mut moved = a.clone();
        moved.date = day("2026-03-15");
        moved.time = None;
        moved.meal = None;
        moved.note = None;
        moved.updated_at += 60;
        assert!(repo.update_entry(&moved).await.unwrap());
        let later = repo
            .entries_between(day("2026-03-15"), day("2026-03-15"))
            .await
            .unwrap();
        assert_eq!(
            later,
            [moved.clone(), b.clone()],
            "logging order within a day"
        );
        assert!(repo.delete_entry("entry:a").await.unwrap());
        assert!(!repo.delete_entry("entry:a").await.unwrap());
        assert!(!repo.update_entry(&moved).await.unwrap());

        let goals: Goals = [(NutrientKey::Calories, 2000.0), (NutrientKey::FiberG, 30.0)].into();
        repo.put_goals(&goals, 1).await.unwrap();
        assert_eq!(repo.goals().await.unwrap(), goals);
        let fewer: Goals = [(NutrientKey::ProteinG, 120.0)].into();
        repo.put_goals(&fewer, 2).await.unwrap();
        assert_eq!(repo.goals().await.unwrap(), fewer);
    }

    #[tokio::test]
    async fn a_batch_with_a_duplicate_id_writes_nothing() {
        let (_dir, repo) = repo().await;
        let a = entry("entry:a", "2026-03-14");
        let err = repo.insert_entries(&[a.clone(), a.clone()]).await;
        assert!(err.is_err());
        assert_eq!(repo.entry("entry:a").await.unwrap(), None);
    }
}
