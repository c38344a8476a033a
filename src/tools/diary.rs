//! The diary tools — log_food, get_diary, update_diary_entry, delete_diary_entry, set_goals,
//! get_goals — and their input and output types. Foods are resolved by the same path
//! get_nutrition takes (same units, same errors); the `Diary` actor stores and summarizes.

use std::{collections::BTreeMap, sync::Arc};

use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::actors::diary::{DiaryFailure, DiaryHandle};
use crate::clock::Clock;
use crate::food::diary::{
    ClockTime, DaySummary, DiaryDate, EntryChanges, EntryReport, GoalTarget, Meal, NewEntry,
    goal_targets, local_now, parse_note,
};
use crate::food::nutrients::NutrientKey;
use crate::food::units::Unit;
use crate::tools::food::item_warnings;
use crate::tools::types::FoodAmount;
use crate::tools::{FoodService, ToolError};

impl From<DiaryFailure> for ToolError {
    fn from(err: DiaryFailure) -> Self {
        ToolError(err.to_string())
    }
}

impl From<crate::food::diary::DiaryError> for ToolError {
    fn from(err: crate::food::diary::DiaryError) -> Self {
        ToolError(err.to_string())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogFoodInput {
    /// What was eaten, 1–100 items, each as in get_nutrition: a `foodId` and `source` from
    /// search_food, an amount and a unit. One diary entry is stored per item; if one item cannot
    /// be computed nothing is logged.
    pub items: Vec<FoodAmount>,
    /// The day it was eaten, YYYY-MM-DD in the owner's time zone; default today.
    #[serde(default)]
    pub date: Option<String>,
    /// When it was eaten, HH:MM (24-hour clock); default now when `date` is left out, else none.
    #[serde(default)]
    pub time: Option<String>,
    /// breakfast, lunch, dinner or snack; leave it out when the person did not say.
    #[serde(default)]
    pub meal: Option<Meal>,
    /// A short note kept with every entry of this call (up to 500 characters).
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogFoodOutput {
    /// The stored entries, in item order, each with its `id`.
    pub entries: Vec<EntryReport>,
    /// The whole day they were logged on, with totals and goals.
    pub day: DaySummary,
    /// Caveats from the food data (stale sources, which portion was used).
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetDiaryInput {
    /// The day to read, YYYY-MM-DD in the owner's time zone; default today.
    #[serde(default)]
    pub date: Option<String>,
    /// The last day of a range starting at `date` (included), YYYY-MM-DD; at most 31 days.
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetDiaryOutput {
    /// Every day asked for, in order; a day with nothing logged has no entries and zero totals.
    pub days: Vec<DaySummary>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDiaryEntryInput {
    /// The entry's `id`, from log_food or get_diary ("entry:…").
    pub entry_id: String,
    /// A new amount; with or without a new `unit`. Measured again from the food as it was when
    /// logged.
    #[serde(default)]
    pub amount: Option<f64>,
    /// A new unit (as in get_nutrition); the amount stays unless given too.
    #[serde(default)]
    pub unit: Option<Unit>,
    /// Move it to another day, YYYY-MM-DD.
    #[serde(default)]
    pub date: Option<String>,
    /// A new time, HH:MM.
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub meal: Option<Meal>,
    /// A new note; "" removes it.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDiaryEntryOutput {
    pub entry: EntryReport,
    /// The entry's day after the change.
    pub day: DaySummary,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteDiaryEntryInput {
    /// The entry's `id`, from log_food or get_diary ("entry:…").
    pub entry_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDiaryEntryOutput {
    /// The entry as it was before it was removed.
    pub deleted: EntryReport,
    /// Its day without it.
    pub day: DaySummary,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetGoalsInput {
    /// Daily targets by nutrient key, in the nutrient's unit: calories (kcal), protein_g,
    /// total_carbs_g, total_fat_g, fiber_g, sodium_mg, … (any key get_nutrition reports). A number
    /// sets that goal, null removes it; goals not named stay as they are. Example:
    /// {"calories": 2000, "protein_g": 120, "fiber_g": 30}.
    pub goals: BTreeMap<String, Option<f64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGoalsInput {}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoalsOutput {
    /// Every daily goal now set; get_diary shows each day's progress against them.
    pub goals: BTreeMap<NutrientKey, GoalTarget>,
}

/// What the diary tools do, over the food resolution and the `Diary` actor.
#[derive(Clone)]
pub struct DiaryTools {
    foods: std::sync::Arc<FoodService>,
    diary: DiaryHandle,
    /// Decides "today" and "now".
    zone: TimeZone,
    clock: Clock,
}

impl DiaryTools {
    pub fn new(
        foods: std::sync::Arc<FoodService>,
        diary: DiaryHandle,
        zone: TimeZone,
        clock: Clock,
    ) -> DiaryTools {
        DiaryTools {
            foods,
            diary,
            zone,
            clock,
        }
    }

    fn now(&self) -> (DiaryDate, ClockTime) {
        local_now(&self.zone, self.clock.now())
    }

    /// Resolves every item first (nothing is stored if one fails), then logs them together.
    pub async fn log_food(&self, input: LogFoodInput) -> Result<LogFoodOutput, ToolError> {
        let (today, now) = self.now();
        let date = input
            .date
            .as_deref()
            .map(|d| DiaryDate::parse("date", d))
            .transpose()?;
        let time = match input.time.as_deref() {
            Some(t) => Some(ClockTime::parse("time", t)?),
            // Eaten now: nothing said means the moment of logging.
            None if date.is_none() => Some(now),
            None => None,
        };
        let note = input.note.as_deref().map(parse_note).transpose()?.flatten();
        let measured = self.foods.measure_all(&input.items).await?;
        let warnings = item_warnings(&measured);
        let entries = measured
            .into_iter()
            .map(|item| NewEntry {
                time,
                meal: input.meal,
                note: note.clone(),
                food: Arc::unwrap_or_clone(item.food),
                measure: item.measure,
            })
            .collect();
        let logged = self.diary.log(date.unwrap_or(today), entries).await?;
        Ok(LogFoodOutput {
            entries: logged.entries.iter().map(|e| e.report()).collect(),
            day: logged.day,
            warnings,
        })
    }

    pub async fn get_diary(&self, input: GetDiaryInput) -> Result<GetDiaryOutput, ToolError> {
        let from = match input.date.as_deref() {
            Some(d) => DiaryDate::parse("date", d)?,
            None => self.now().0,
        };
        let to = input
            .to
            .as_deref()
            .map(|d| DiaryDate::parse("to", d))
            .transpose()?
            .unwrap_or(from);
        let days = self.diary.days(from, to).await?;
        Ok(GetDiaryOutput { days })
    }

    pub async fn update_entry(
        &self,
        input: UpdateDiaryEntryInput,
    ) -> Result<UpdateDiaryEntryOutput, ToolError> {
        let changes = EntryChanges {
            amount: input.amount,
            unit: input.unit,
            date: input
                .date
                .as_deref()
                .map(|d| DiaryDate::parse("date", d))
                .transpose()?,
            time: input
                .time
                .as_deref()
                .map(|t| ClockTime::parse("time", t))
                .transpose()?,
            meal: input.meal,
            note: input.note.as_deref().map(parse_note).transpose()?,
        };
        let changed = self
            .diary
            .update(entry_id(&input.entry_id)?, changes)
            .await?;
        Ok(UpdateDiaryEntryOutput {
            entry: changed.entry.report(),
            day: changed.day,
        })
    }

    pub async fn delete_entry(
        &self,
        input: DeleteDiaryEntryInput,
    ) -> Result<DeleteDiaryEntryOutput, ToolError> {
        let deleted = self.diary.delete(entry_id(&input.entry_id)?).await?;
        Ok(DeleteDiaryEntryOutput {
            deleted: deleted.entry.report(),
            day: deleted.day,
        })
    }

    pub async fn set_goals(&self, input: SetGoalsInput) -> Result<GoalsOutput, ToolError> {
        let goals = self.diary.set_goals(input.goals).await?;
        Ok(GoalsOutput {
            goals: goal_targets(&goals),
        })
    }

    pub async fn get_goals(&self) -> Result<GoalsOutput, ToolError> {
        let goals = self.diary.goals().await?;
        Ok(GoalsOutput {
            goals: goal_targets(&goals),
        })
    }
}

fn entry_id(id: &str) -> Result<&str, ToolError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(ToolError(
            "entryId is empty; use an id from log_food or get_diary".into(),
        ));
    }
    Ok(id)
}
