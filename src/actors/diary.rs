//! `Diary`: the actor that owns the owner's food diary and daily goals. Every write goes through
//! its mailbox, so concurrent logs are serial, and is on disk (the repository's transaction
//! committed) before the reply; a failed write answers an error and changes nothing. Goals are
//! also kept in memory, replaced only after their write succeeded.

use std::{collections::BTreeMap, sync::Arc};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::{ActorHandle, NoAnswer, reply};
use crate::clock::Clock;
use crate::food::diary::{
    DaySummary, DiaryDate, DiaryError, Entry, EntryChanges, Goals, NewEntry, summarize_day,
    updated_goals,
};
use crate::ports::{DiaryRepo, StorageError};

/// Why the diary could not do what was asked. Messages are written for the person.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiaryFailure {
    #[error(transparent)]
    Invalid(#[from] DiaryError),
    #[error("no diary entry has id \"{0}\"; get_diary lists the entries of a day with their ids")]
    UnknownEntry(String),
    #[error("the diary could not be read or saved, and nothing was changed; try again shortly")]
    Storage,
    #[error("the diary is not running; try again shortly")]
    Unavailable,
    #[error(
        "the diary did not answer in time; the change may still have been saved, so check with get_diary before trying again"
    )]
    Timeout,
}

impl From<NoAnswer> for DiaryFailure {
    fn from(why: NoAnswer) -> Self {
        match why {
            NoAnswer::Stopped => DiaryFailure::Unavailable,
            // A write may have committed after the caller stopped waiting.
            NoAnswer::TimedOut => DiaryFailure::Timeout,
        }
    }
}

/// Entries as stored, with the summary of their day.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    pub entries: Vec<Entry>,
    pub day: DaySummary,
}

/// One entry (as updated, or as it was before deletion) with the summary of its day.
#[derive(Clone, Debug, PartialEq)]
pub struct Changed {
    pub entry: Entry,
    pub day: DaySummary,
}

pub enum DiaryMsg {
    /// Stores entries on one day, all or none, each with a new id.
    Log {
        date: DiaryDate,
        entries: Vec<NewEntry>,
        reply: RpcReplyPort<Result<Logged, DiaryFailure>>,
    },
    /// Changes an entry; a new amount or unit is measured from its own food snapshot.
    Update {
        id: String,
        changes: EntryChanges,
        reply: RpcReplyPort<Result<Changed, DiaryFailure>>,
    },
    /// Removes an entry.
    Delete {
        id: String,
        reply: RpcReplyPort<Result<Changed, DiaryFailure>>,
    },
    /// Summaries of the days `from..=to` (at most 31).
    Days {
        from: DiaryDate,
        to: DiaryDate,
        reply: RpcReplyPort<Result<Vec<DaySummary>, DiaryFailure>>,
    },
    /// Sets (a number) or removes (`None`) daily goals by nutrient key; answers all goals.
    SetGoals {
        changes: BTreeMap<String, Option<f64>>,
        reply: RpcReplyPort<Result<Goals, DiaryFailure>>,
    },
    /// The daily goals.
    Goals {
        reply: RpcReplyPort<Result<Goals, DiaryFailure>>,
    },
}

impl super::ActorMessage for DiaryMsg {
    const ACTOR: &'static str = "diary";
    const SPAN: &'static str = "actor.diary";

    fn kind(&self) -> &'static str {
        match self {
            DiaryMsg::Log { .. } => "Log",
            DiaryMsg::Update { .. } => "Update",
            DiaryMsg::Delete { .. } => "Delete",
            DiaryMsg::Days { .. } => "Days",
            DiaryMsg::SetGoals { .. } => "SetGoals",
            DiaryMsg::Goals { .. } => "Goals",
        }
    }
}

#[derive(Clone)]
pub struct Arguments {
    pub repo: Arc<dyn DiaryRepo>,
    pub clock: Clock,
}

pub struct State {
    repo: Arc<dyn DiaryRepo>,
    clock: Clock,
    goals: Goals,
}

#[derive(Clone)]
pub struct Diary;

impl Actor for Diary {
    type Msg = super::Envelope<DiaryMsg>;
    type State = State;
    type Arguments = Arguments;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Arguments,
    ) -> Result<State, ActorProcessingErr> {
        let goals = args.repo.goals().await?;
        Ok(State {
            repo: args.repo,
            clock: args.clock,
            goals,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: super::Envelope<DiaryMsg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Every failure is answered through a reply port; nothing here may stop the actor.
        msg.handle(|msg| state.handle_msg(msg)).await;
        Ok(())
    }
}

impl State {
    async fn handle_msg(&mut self, msg: DiaryMsg) {
        match msg {
            DiaryMsg::Log {
                date,
                entries,
                reply: port,
            } => reply(port, self.log(date, entries).await),
            DiaryMsg::Update {
                id,
                changes,
                reply: port,
            } => reply(port, self.update(&id, &changes).await),
            DiaryMsg::Delete { id, reply: port } => reply(port, self.delete(&id).await),
            DiaryMsg::Days {
                from,
                to,
                reply: port,
            } => reply(port, self.days(from, to).await),
            DiaryMsg::SetGoals {
                changes,
                reply: port,
            } => reply(port, self.set_goals(&changes).await),
            DiaryMsg::Goals { reply: port } => reply(port, Ok(self.goals.clone())),
        }
    }

    async fn log(&self, date: DiaryDate, entries: Vec<NewEntry>) -> Result<Logged, DiaryFailure> {
        let now = self.clock.now();
        let entries: Vec<Entry> = entries
            .into_iter()
            .map(|e| e.into_entry(new_entry_id(), date, now))
            .collect();
        self.repo
            .insert_entries(&entries)
            .await
            .map_err(storage_failed)?;
        let day = self.day(date).await?;
        Ok(Logged { entries, day })
    }

    async fn update(&self, id: &str, changes: &EntryChanges) -> Result<Changed, DiaryFailure> {
        let entry = self.existing(id).await?;
        let updated = entry.updated(changes, self.clock.now())?;
        if !self
            .repo
            .update_entry(&updated)
            .await
            .map_err(storage_failed)?
        {
            return Err(DiaryFailure::UnknownEntry(id.to_string()));
        }
        let day = self.day(updated.date).await?;
        Ok(Changed {
            entry: updated,
            day,
        })
    }

    async fn delete(&self, id: &str) -> Result<Changed, DiaryFailure> {
        let entry = self.existing(id).await?;
        if !self.repo.delete_entry(id).await.map_err(storage_failed)? {
            return Err(DiaryFailure::UnknownEntry(id.to_string()));
        }
        let day = self.day(entry.date).await?;
        Ok(Changed { entry, day })
    }

    async fn days(&self, from: DiaryDate, to: DiaryDate) -> Result<Vec<DaySummary>, DiaryFailure> {
        let dates = from.through(to)?;
        let entries = self
            .repo
            .entries_between(from, to)
            .await
            .map_err(storage_failed)?;
        Ok(dates
            .into_iter()
            .map(|date| summarize_day(date, &entries, &self.goals))
            .collect())
    }

    async fn day(&self, date: DiaryDate) -> Result<DaySummary, DiaryFailure> {
        let entries = self
            .repo
            .entries_between(date, date)
            .await
            .map_err(storage_failed)?;
        Ok(summarize_day(date, &entries, &self.goals))
    }

    async fn set_goals(
        &mut self,
        changes: &BTreeMap<String, Option<f64>>,
    ) -> Result<Goals, DiaryFailure> {
        let goals = updated_goals(&self.goals, changes)?;
        self.repo
            .put_goals(&goals, self.clock.now())
            .await
            .map_err(storage_failed)?;
        // Memory follows storage only once the write is on disk.
        self.goals = goals;
        Ok(self.goals.clone())
    }

    async fn existing(&self, id: &str) -> Result<Entry, DiaryFailure> {
        self.repo
            .entry(id)
            .await
            .map_err(storage_failed)?
            .ok_or_else(|| DiaryFailure::UnknownEntry(id.to_string()))
    }
}

/// `entry:` and 16 random hex digits: unique for a lifetime of meals, and says what it names.
fn new_entry_id() -> String {
    format!("entry:{:016x}", rand::random::<u64>())
}

fn storage_failed(err: StorageError) -> DiaryFailure {
    tracing::error!(%err, "diary storage failed");
    DiaryFailure::Storage
}

/// The diary's typed handle: one method per request, each bounded by the call timeout (longer
/// than SQLite's busy timeout, so a slow commit still answers; a timed-out write may still land,
/// and the error says so).
#[derive(Clone)]
pub struct DiaryHandle(ActorHandle<DiaryMsg>);

impl DiaryHandle {
    pub fn new(actor: ActorHandle<DiaryMsg>) -> Self {
        DiaryHandle(actor)
    }

    pub async fn log(
        &self,
        date: DiaryDate,
        entries: Vec<NewEntry>,
    ) -> Result<Logged, DiaryFailure> {
        self.0
            .ask(|reply| DiaryMsg::Log {
                date,
                entries,
                reply,
            })
            .await
    }

    pub async fn update(&self, id: &str, changes: EntryChanges) -> Result<Changed, DiaryFailure> {
        let id = id.to_string();
        self.0
            .ask(|reply| DiaryMsg::Update { id, changes, reply })
            .await
    }

    pub async fn delete(&self, id: &str) -> Result<Changed, DiaryFailure> {
        let id = id.to_string();
        self.0.ask(|reply| DiaryMsg::Delete { id, reply }).await
    }

    pub async fn days(
        &self,
        from: DiaryDate,
        to: DiaryDate,
    ) -> Result<Vec<DaySummary>, DiaryFailure> {
        self.0.ask(|reply| DiaryMsg::Days { from, to, reply }).await
    }

    pub async fn set_goals(
        &self,
        changes: BTreeMap<String, Option<f64>>,
    ) -> Result<Goals, DiaryFailure> {
        self.0
            .ask(|reply| DiaryMsg::SetGoals { changes, reply })
            .await
    }

    pub async fn goals(&self) -> Result<Goals, DiaryFailure> {
        self.0.ask(|reply| DiaryMsg::Goals { reply }).await
    }
}

#[cfg(test)]
mod tests {
    use crate::actors::fakes::WriteSwitch;
    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::food::diary::{Meal, Measure};
    use crate::food::model::{Basis, Food, Source};
    use crate::food::nutrients::NutrientKey;
    use crate::food::units::Unit;

    /// The diary in a vector (logging order, as SQLite's `seq`); `fail_writes` makes every write
    /// fail, as a full disk would. The lock plays the database; no actor state sits behind it.
    #[derive(Default)]
    struct MemoryDiary {
        entries: Mutex<Vec<Entry>>,
        goals: Mutex<Goals>,
        fail_writes: WriteSwitch,
    }

    impl MemoryDiary {
        fn write(&self) -> Result<(), StorageError> {
            self.fail_writes.check()
        }
    }

    #[async_trait]
    impl DiaryRepo for MemoryDiary {
        async fn entries_between(
            &self,
            from: DiaryDate,
            to: DiaryDate,
        ) -> Result<Vec<Entry>, StorageError> {
            let entries = self.entries.lock().unwrap();
            Ok(entries
                .iter()
                .filter(|e| e.date >= from && e.date <= to)
                .cloned()
                .collect())
        }
        async fn entry(&self, id: &str) -> Result<Option<Entry>, StorageError> {
            Ok(self
                .entries
                .lock()
                .unwrap()
                .iter()
                .find(|e| e.id == id)
                .cloned())
        }
        async fn insert_entries(&self, entries: &[Entry]) -> Result<(), StorageError> {
            self.write()?;
            self.entries.lock().unwrap().extend_from_slice(entries);
            Ok(())
        }
        async fn update_entry(&self, entry: &Entry) -> Result<bool, StorageError> {
            self.write()?;
            let mut entries = self.entries.lock().unwrap();
            match entries.iter_mut().find(|e| e.id == entry.id) {
                Some(stored) => {
                    *stored = entry.clone();
                    Ok(true)
                }
                None => Ok(false),
            }
        }
        async fn delete_entry(&self, id: &str) -> Result<bool, StorageError> {
            self.write()?;
            let mut entries = self.entries.lock().unwrap();
            let before = entries.len();
            entries.retain(|e| e.id != id);
            Ok(entries.len() < before)
        }
        async fn goals(&self) -> Result<Goals, StorageError> {
            Ok(self.goals.lock().unwrap().clone())
        }
        async fn put_goals(&self, goals: &Goals, _at: i64) -> Result<(), StorageError> {
            self.write()?;
            *self.goals.lock().unwrap() = goals.clone();
            Ok(())
        }
    }

    fn banana() -> Food {
        Food {
            id: "173944".into(),
            source: Source::Usda,
            name: "Bananas, raw".into(),
            brand: None,
            category: None,
            data_type: None,
            basis: Basis::Per100g,
            nutrients: [(NutrientKey::Calories, 89.0), (NutrientKey::ProteinG, 1.09)].into(),
            portions: vec![],
            serving: None,
        }
    }

    fn new_entry(food: &Food, grams: f64, meal: Meal) -> NewEntry {
        NewEntry {
            time: None,
            meal: Some(meal),
            note: None,
            measure: Measure::of(food, grams, Unit::G).unwrap().0,
            food: food.clone(),
        }
    }

    fn day(text: &str) -> DiaryDate {
        DiaryDate::parse("date", text).unwrap()
    }

    async fn start(repo: Arc<MemoryDiary>) -> DiaryHandle {
        let args = Arguments {
            repo,
            clock: Clock::manual(1_773_500_000),
        };
        DiaryHandle::new(ActorHandle::spawn(Diary, args, Duration::from_secs(5)).await)
    }

    fn calories(day: &DaySummary) -> Option<f64> {
        day.totals.0[&NutrientKey::Calories].value
    }

    #[tokio::test]
    async fn logs_reads_updates_and_deletes() {
        let repo = Arc::new(MemoryDiary::default());
        let diary = start(repo.clone()).await;
        let food = banana();
        let logged = diary
            .log(
                day("2026-03-14"),
                vec![
                    new_entry(&food, 118.0, Meal::Breakfast),
                    new_entry(&food, 100.0, Meal::Snack),
                ],
            )
            .await
            .unwrap();
        assert_eq!(logged.entries.len(), 2);
        assert_ne!(logged.entries[0].id, logged.entries[1].id);
        assert!(logged.entries[0].id.starts_with("entry:"));
        assert_eq!(logged.entries[0].logged_at, 1_773_500_000);
        assert_eq!(calories(&logged.day), Some(194.0));

        let changed = diary
            .update(
                &logged.entries[1].id,
                EntryChanges {
                    amount: Some(50.0),
                    date: Some(day("2026-03-15")),
                    ..EntryChanges::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(changed.day.date, day("2026-03-15"));
        assert_eq!(calories(&changed.day), Some(44.5));
        let days = diary
            .days(day("2026-03-14"), day("2026-03-16"))
            .await
            .unwrap();
        let totals: Vec<_> = days.iter().map(calories).collect();
        assert_eq!(totals, [Some(105.0), Some(44.5), Some(0.0)]);

        let deleted = diary.delete(&logged.entries[0].id).await.unwrap();
        assert_eq!(deleted.entry.id, logged.entries[0].id);
        assert!(deleted.day.entries.is_empty());
        assert_eq!(
            diary.delete(&logged.entries[0].id).await,
            Err(DiaryFailure::UnknownEntry(logged.entries[0].id.clone()))
        );
        assert_eq!(repo.entries.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_write_changes_nothing_and_answers_an_error() {
        let repo = Arc::new(MemoryDiary::default());
        let diary = start(repo.clone()).await;
        let food = banana();
        let kept = diary
            .log(
                day("2026-03-14"),
                vec![new_entry(&food, 100.0, Meal::Lunch)],
            )
            .await
            .unwrap();
        diary
            .set_goals([("calories".to_string(), Some(2000.0))].into())
            .await
            .unwrap();

        repo.fail_writes.fail(true);
        let failed = diary
            .log(
                day("2026-03-14"),
                vec![new_entry(&food, 100.0, Meal::Dinner)],
            )
            .await;
        assert_eq!(failed, Err(DiaryFailure::Storage));
        let id = &kept.entries[0].id;
        let update = EntryChanges {
            amount: Some(1.0),
            ..EntryChanges::default()
        };
        assert_eq!(diary.update(id, update).await, Err(DiaryFailure::Storage));
        assert_eq!(diary.delete(id).await, Err(DiaryFailure::Storage));
        assert_eq!(
            diary
                .set_goals([("calories".to_string(), Some(1500.0))].into())
                .await,
            Err(DiaryFailure::Storage)
        );

        let goals = diary.goals().await.unwrap();
        assert_eq!(
            goals,
            [(NutrientKey::Calories, 2000.0)].into(),
            "goals as they were"
        );
        let days = diary
            .days(day("2026-03-14"), day("2026-03-14"))
            .await
            .unwrap();
        assert_eq!(days[0].entries.len(), 1);
        assert_eq!(days[0].entries[0].amount, 100.0, "the entry as it was");
        assert_eq!(days[0].goals[&NutrientKey::Calories].target, 2000.0);

        repo.fail_writes.fail(false);
        assert!(diary.delete(id).await.is_ok(), "the actor kept running");
    }

    #[tokio::test]
    async fn bad_requests_are_refused_before_anything_is_written() {
        let repo = Arc::new(MemoryDiary::default());
        let diary = start(repo.clone()).await;
        let too_long = diary.days(day("2026-01-01"), day("2026-02-01")).await;
        assert!(matches!(
            too_long,
            Err(DiaryFailure::Invalid(DiaryError::RangeTooLong {
                days: 32,
                ..
            }))
        ));
        assert_eq!(
            diary
                .update("entry:0000000000000000", EntryChanges::default())
                .await,
            Err(DiaryFailure::UnknownEntry("entry:0000000000000000".into()))
        );
        assert!(matches!(
            diary
                .set_goals([("kcal".to_string(), Some(1.0))].into())
                .await,
            Err(DiaryFailure::Invalid(DiaryError::UnknownNutrient(_)))
        ));
        assert!(repo.entries.lock().unwrap().is_empty());
        assert!(repo.goals.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn goals_load_at_start_and_concurrent_logs_all_land() {
        let repo = Arc::new(MemoryDiary::default());
        *repo.goals.lock().unwrap() = [(NutrientKey::ProteinG, 120.0)].into();
        let diary = start(repo.clone()).await;
        assert_eq!(
            diary.goals().await.unwrap(),
            [(NutrientKey::ProteinG, 120.0)].into()
        );
        let food = banana();
        let logs = (0..20).map(|_| {
            let diary = diary.clone();
            let entry = new_entry(&food, 10.0, Meal::Snack);
            async move { diary.log(day("2026-03-14"), vec![entry]).await }
        });
        let answers = futures::future::join_all(logs).await;
        assert!(answers.iter().all(Result::is_ok));
        let days = diary
            .days(day("2026-03-14"), day("2026-03-14"))
            .await
            .unwrap();
        assert_eq!(days[0].entries.len(), 20);
        assert_eq!(calories(&days[0]), Some(178.0));
    }
}
