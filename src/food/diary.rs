//! The food diary's pure rules: diary dates and clock times, the entry with its food snapshot,
//! entry updates, goals, and day summaries (meal and day totals, coverage, goal progress — all
//! from unrounded values).

use std::collections::BTreeMap;

use jiff::{
    Timestamp,
    civil::{Date, Time},
    tz::TimeZone,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::food::meal::{self, MealTotal, NutrientCoverage};
use crate::food::model::{Food, Source};
use crate::food::nutrients::{NutrientKey, NutrientMap, NutrientReport, Nutrients};
use crate::food::units::{self, ConversionError, Unit};

/// The longest span `get_diary` reads at once.
pub const MAX_RANGE_DAYS: usize = 31;
pub const MAX_NOTE_CHARS: usize = 500;
/// Above this a daily goal is a typo (no day holds 100 kg of anything).
pub const MAX_GOAL: f64 = 100_000.0;

/// Why a diary request cannot be carried out. Messages are written for the person: they say what
/// is wrong and what to send instead.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DiaryError {
    #[error("{field} \"{text}\" is not a date; write it as YYYY-MM-DD, e.g. 2026-03-14")]
    DateFormat { field: &'static str, text: String },
    #[error("{field} \"{text}\" does not exist: {reason}")]
    NoSuchDate {
        field: &'static str,
        text: String,
        reason: String,
    },
    #[error(
        "{field} \"{text}\" is not a time; write it as HH:MM on a 24-hour clock, e.g. 07:30 or 19:05"
    )]
    TimeFormat { field: &'static str, text: String },
    #[error("to ({to}) is before date ({from}); give the first day as date and the last as to")]
    RangeBackwards { from: DiaryDate, to: DiaryDate },
    #[error(
        "{from} to {to} is {days} days; read at most {MAX_RANGE_DAYS} days at once (several calls for longer spans)"
    )]
    RangeTooLong {
        from: DiaryDate,
        to: DiaryDate,
        days: usize,
    },
    #[error("note is longer than {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
    #[error(transparent)]
    Conversion(#[from] ConversionError),
    #[error("nothing to change: give at least one of amount, unit, date, time, meal or note")]
    NothingToChange,
    #[error("unknown nutrient \"{0}\" in goals; known nutrients: {known}", known = known_nutrients())]
    UnknownNutrient(String),
    #[error("goal for {key} must be a number from 0 to {MAX_GOAL} (in {unit}), got {value}")]
    InvalidGoal {
        key: &'static str,
        unit: &'static str,
        value: f64,
    },
    #[error(
        "goals is empty; give daily targets such as {{\"calories\": 2000, \"protein_g\": 120}} (null removes one)"
    )]
    NoGoals,
}

fn known_nutrients() -> String {
    let known: Vec<_> = NutrientKey::ALL.iter().map(|n| n.key()).collect();
    known.join(", ")
}

/// A calendar day of the diary, in the owner's time zone. Written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiaryDate(Date);

impl DiaryDate {
    /// Parses `YYYY-MM-DD` strictly; an impossible day (2026-02-30) says why it does not exist.
    /// `field` names the input in the message.
    pub fn parse(field: &'static str, text: &str) -> Result<DiaryDate, DiaryError> {
        let format = || DiaryError::DateFormat {
            field,
            text: text.to_string(),
        };
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(format());
        }
        let number =
            |range: std::ops::Range<usize>| text[range].parse::<i16>().map_err(|_| format());
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let no_such = |reason: String| DiaryError::NoSuchDate {
            field,
            text: text.to_string(),
            reason,
        };
        if year < 1 {
            return Err(no_such("the year must be 0001 or later".into()));
        }
        if !(1..=12).contains(&month) {
            return Err(no_such(format!("there is no month {month}")));
        }
        let first = Date::new(year, month as i8, 1).map_err(|e| no_such(e.to_string()))?;
        let days = first.days_in_month();
        if day < 1 || day > i16::from(days) {
            return Err(no_such(format!(
                "{} {year} has {days} days",
                first.strftime("%B")
            )));
        }
        Date::new(year, month as i8, day as i8)
            .map(DiaryDate)
            .map_err(|e| no_such(e.to_string()))
    }

    /// Every day from `self` to `to`, both included; at most [`MAX_RANGE_DAYS`].
    pub fn through(self, to: DiaryDate) -> Result<Vec<DiaryDate>, DiaryError> {
        if to < self {
            return Err(DiaryError::RangeBackwards { from: self, to });
        }
        let mut days = Vec::new();
        let mut day = self.0;
        while day <= to.0 {
            if days.len() == MAX_RANGE_DAYS {
                let total = self.0.until(to.0).map_or(usize::MAX, |span| {
                    usize::try_from(span.get_days()).unwrap_or(usize::MAX) + 1
                });
                return Err(DiaryError::RangeTooLong {
                    from: self,
                    to,
                    days: total,
                });
            }
            days.push(DiaryDate(day));
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        Ok(days)
    }
}

impl std::fmt::Display for DiaryDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m-%d"))
    }
}

impl Serialize for DiaryDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for DiaryDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DiaryDate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date",
            "description": "A day in the owner's time zone, YYYY-MM-DD.",
        })
    }
}

/// A time of day, minutes precision. Written `HH:MM` (24-hour clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(Time);

impl ClockTime {
    pub fn parse(field: &'static str, text: &str) -> Result<ClockTime, DiaryError> {
        let format = || DiaryError::TimeFormat {
            field,
            text: text.to_string(),
        };
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 5
            && bytes[2] == b':'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 2 || b.is_ascii_digit());
        if !shaped {
            return Err(format());
        }
        let (hour, minute) = (
            text[0..2].parse::<i8>().map_err(|_| format())?,
            text[3..5].parse::<i8>().map_err(|_| format())?,
        );
        Time::new(hour, minute, 0, 0)
            .map(ClockTime)
            .map_err(|_| format())
    }

    pub fn from_time(time: Time) -> ClockTime {
        ClockTime(Time::constant(time.hour(), time.minute(), 0, 0))
    }
}

impl std::fmt::Display for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.strftime("%H:%M"))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for ClockTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ClockTime".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-2][0-9]:[0-5][0-9]$",
            "description": "A time of day, HH:MM on a 24-hour clock.",
        })
    }
}

/// The owner's date and time of day at the unix second `now`, in `tz`.
pub fn local_now(tz: &TimeZone, now: i64) -> (DiaryDate, ClockTime) {
    let timestamp = Timestamp::from_second(now).unwrap_or(Timestamp::UNIX_EPOCH);
    let local = tz.to_datetime(timestamp);
    (DiaryDate(local.date()), ClockTime::from_time(local.time()))
}

/// RFC 3339 in UTC for a unix second, e.g. `2026-03-14T07:31:02Z`.
pub fn timestamp_text(unix: i64) -> String {
    Timestamp::from_second(unix)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_string()
}

/// Which meal of the day an entry belongs to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Meal {
    Breakfast,
    Lunch,
    Dinner,
    Snack,
}

impl Meal {
    pub const ALL: [Meal; 4] = [Meal::Breakfast, Meal::Lunch, Meal::Dinner, Meal::Snack];

    pub fn as_str(self) -> &'static str {
        match self {
            Meal::Breakfast => "breakfast",
            Meal::Lunch => "lunch",
            Meal::Dinner => "dinner",
            Meal::Snack => "snack",
        }
    }

    pub fn from_key(key: &str) -> Option<Meal> {
        Meal::ALL.into_iter().find(|m| m.as_str() == key)
    }
}

/// A trimmed note; empty means none.
pub fn parse_note(note: &str) -> Result<Option<String>, DiaryError> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(DiaryError::NoteTooLong);
    }
    Ok((!note.is_empty()).then(|| note.to_string()))
}

/// How much of a food an entry stands for, resolved against the entry's own food snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub amount: f64,
    pub unit: Unit,
    pub grams: Option<f64>,
    /// How the amount was converted, e.g. `1 medium = 118 g (USDA portion "1 medium")`.
    pub serving_description: String,
    /// Scaled and unrounded: sums are taken from these.
    pub nutrients: Nutrients,
}

impl Measure {
    /// `amount unit` of `food` — the one conversion get_nutrition, log_food and entry updates
    /// share — with the conversion's caveats (e.g. which of several portions was used).
    pub fn of(
        food: &Food,
        amount: f64,
        unit: Unit,
    ) -> Result<(Measure, Vec<String>), ConversionError> {
        let quantity = units::resolve(food, amount, unit)?;
        let measure = Measure {
            amount,
            unit,
            grams: quantity.grams,
            nutrients: units::scale(food, &quantity),
            serving_description: quantity.description,
        };
        Ok((measure, quantity.warnings))
    }
}

/// One logged food. `food` is a snapshot of the food's data at logging time: the entry's numbers
/// are computed from it alone, so a later cache refresh or catalog import never changes history.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Stable: never reused, unchanged by updates.
    pub id: String,
    pub date: DiaryDate,
    pub time: Option<ClockTime>,
    pub meal: Option<Meal>,
    pub note: Option<String>,
    pub food: Food,
    pub measure: Measure,
    /// Unix seconds.
    pub logged_at: i64,
    pub updated_at: i64,
}

/// An entry about to be logged: everything but its id and logging time, which the diary assigns.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    pub time: Option<ClockTime>,
    pub meal: Option<Meal>,
    pub note: Option<String>,
    pub food: Food,
    pub measure: Measure,
}

impl NewEntry {
    pub fn into_entry(self, id: String, date: DiaryDate, now: i64) -> Entry {
        Entry {
            id,
            date,
            time: self.time,
            meal: self.meal,
            note: self.note,
            food: self.food,
            measure: self.measure,
            logged_at: now,
            updated_at: now,
        }
    }
}

/// What `update_diary_entry` may change; `None` keeps the entry's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EntryChanges {
    pub amount: Option<f64>,
    pub unit: Option<Unit>,
    pub date: Option<DiaryDate>,
    pub time: Option<ClockTime>,
    pub meal: Option<Meal>,
    /// `Some(None)` removes the note.
    pub note: Option<Option<String>>,
}

impl EntryChanges {
    pub fn is_empty(&self) -> bool {
        *self == EntryChanges::default()
    }
}

impl Entry {
    /// The entry with `changes` applied; a new amount or unit is measured again from the entry's
    /// own snapshot, never from a newer copy of the food.
    pub fn updated(&self, changes: &EntryChanges, now: i64) -> Result<Entry, DiaryError> {
        if changes.is_empty() {
            return Err(DiaryError::NothingToChange);
        }
        let mut entry = self.clone();
        if changes.amount.is_some() || changes.unit.is_some() {
            let amount = changes.amount.unwrap_or(self.measure.amount);
            let unit = changes.unit.unwrap_or(self.measure.unit);
            entry.measure = Measure::of(&self.food, amount, unit)?.0;
        }
        if let Some(date) = changes.date {
            entry.date = date;
        }
        if let Some(time) = changes.time {
            entry.time = Some(time);
        }
        if let Some(meal) = changes.meal {
            entry.meal = Some(meal);
        }
        if let Some(note) = &changes.note {
            entry.note = note.clone();
        }
        entry.updated_at = now;
        Ok(entry)
    }

    /// The entry as an answer shows it: rounded nutrients, food identity from the snapshot.
    pub fn report(&self) -> EntryReport {
        EntryReport {
            id: self.id.clone(),
            date: self.date,
            time: self.time,
            meal: self.meal,
            note: self.note.clone(),
            food_id: self.food.id.clone(),
            source: self.food.source,
            name: self.food.name.clone(),
            brand: self.food.brand.clone(),
            amount: self.measure.amount,
            unit: self.measure.unit,
            grams: self.measure.grams.map(|g| (g * 100.0).round() / 100.0),
            serving_description: self.measure.serving_description.clone(),
            nutrients: NutrientReport::from_nutrients(&self.measure.nutrients),
            logged_at: timestamp_text(self.logged_at),
        }
    }
}

/// Daily targets by nutrient, in the nutrient's own unit.
pub type Goals = BTreeMap<NutrientKey, f64>;

/// Goals after `changes` (a number sets a target, `None` removes it), each key and value checked.
pub fn updated_goals(
    goals: &Goals,
    changes: &BTreeMap<String, Option<f64>>,
) -> Result<Goals, DiaryError> {
    if changes.is_empty() {
        return Err(DiaryError::NoGoals);
    }
    let mut next = goals.clone();
    for (key, value) in changes {
        let nutrient =
            NutrientKey::from_key(key).ok_or_else(|| DiaryError::UnknownNutrient(key.clone()))?;
        match value {
            None => {
                next.remove(&nutrient);
            }
            Some(v) if v.is_finite() && (0.0..=MAX_GOAL).contains(v) => {
                next.insert(nutrient, *v);
            }
            Some(v) => {
                return Err(DiaryError::InvalidGoal {
                    key: nutrient.key(),
                    unit: nutrient.unit(),
                    value: *v,
                });
            }
        }
    }
    Ok(next)
}

/// A goal as answers show it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoalTarget {
    pub target: f64,
    /// `kcal`, `g`, `mg` or `mcg`.
    pub unit: String,
}

pub fn goal_targets(goals: &Goals) -> BTreeMap<NutrientKey, GoalTarget> {
    goals
        .iter()
        .map(|(key, target)| {
            (
                *key,
                GoalTarget {
                    target: *target,
                    unit: key.unit().to_string(),
                },
            )
        })
        .collect()
}

/// One entry in an answer.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryReport {
    /// Pass it to update_diary_entry or delete_diary_entry.
    pub id: String,
    pub date: DiaryDate,
    /// When it was eaten, if known.
    pub time: Option<ClockTime>,
    pub meal: Option<Meal>,
    pub note: Option<String>,
    pub food_id: String,
    pub source: Source,
    /// The food's name when it was logged.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    pub amount: f64,
    pub unit: Unit,
    /// The weight the amount stands for; absent only for foods saved per volume or piece
    /// without a weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grams: Option<f64>,
    pub serving_description: String,
    /// As get_nutrition reports them, from the food's data at logging time.
    pub nutrients: NutrientReport,
    /// When the entry was logged (RFC 3339, UTC).
    pub logged_at: String,
}

/// Progress against one daily goal.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoalProgress {
    pub target: f64,
    /// The day's total, rounded after summing; null when the day's entries have no data for it.
    pub value: Option<f64>,
    /// `kcal`, `g`, `mg` or `mcg`.
    pub unit: String,
    /// How much is left to reach the target (0 once reached); null when value is.
    pub remaining: Option<f64>,
    /// How far the day is past the target (0 while under); null when value is.
    pub over: Option<f64>,
    /// False when no entry of the day has data for this nutrient — never that the day has none.
    pub available: bool,
    /// True when some entries lack data: the real value is at least `value`, so `remaining`
    /// may be smaller and `over` larger than shown.
    pub lower_bound: bool,
}

/// Totals per meal; `unassigned` holds entries logged without a meal, and appears only then.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MealTotals {
    pub breakfast: NutrientMap<MealTotal>,
    pub lunch: NutrientMap<MealTotal>,
    pub dinner: NutrientMap<MealTotal>,
    pub snack: NutrientMap<MealTotal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unassigned: Option<NutrientMap<MealTotal>>,
}

/// One day of the diary.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DaySummary {
    pub date: DiaryDate,
    /// In eating order: by time (entries without a time last), then as logged.
    pub entries: Vec<EntryReport>,
    pub meals: MealTotals,
    /// Sums of the unrounded entry values, then rounded; `lowerBound` where some entries lack
    /// data. An empty day is zeros.
    pub totals: NutrientMap<MealTotal>,
    /// Which nutrients every entry had and which only some; `missingFrom` indexes `entries`.
    pub nutrient_coverage: NutrientCoverage,
    /// The owner's daily goals against this day's totals; empty when none are set.
    pub goals: BTreeMap<NutrientKey, GoalProgress>,
}

/// Summarizes one day from its entries (any order) and the goals.
pub fn summarize_day(date: DiaryDate, entries: &[Entry], goals: &Goals) -> DaySummary {
    let mut day: Vec<&Entry> = entries.iter().filter(|e| e.date == date).collect();
    // Stable: entries at the same time (or both without one) keep the order they were logged in.
    day.sort_by_key(|e| (e.time.is_none(), e.time));
    let nutrients: Vec<Nutrients> = day.iter().map(|e| e.measure.nutrients.clone()).collect();
    let summary = meal::summarize(&nutrients);
    let meal_totals = |meal: Option<Meal>| {
        let of_meal: Vec<Nutrients> = day
            .iter()
            .filter(|e| e.meal == meal)
            .map(|e| e.measure.nutrients.clone())
            .collect();
        meal::summarize(&of_meal).totals
    };
    let unassigned = day.iter().any(|e| e.meal.is_none());
    DaySummary {
        date,
        entries: day.iter().map(|e| e.report()).collect(),
        meals: MealTotals {
            breakfast: meal_totals(Some(Meal::Breakfast)),
            lunch: meal_totals(Some(Meal::Lunch)),
            dinner: meal_totals(Some(Meal::Dinner)),
            snack: meal_totals(Some(Meal::Snack)),
            unassigned: unassigned.then(|| meal_totals(None)),
        },
        totals: summary.totals,
        nutrient_coverage: summary.nutrient_coverage,
        goals: goals
            .iter()
            .map(|(key, target)| (*key, progress(*key, *target, &nutrients)))
            .collect(),
    }
}

/// Progress from the unrounded sum: rounding the total first could flip a goal just reached.
fn progress(key: NutrientKey, target: f64, entries: &[Nutrients]) -> GoalProgress {
    let values: Vec<f64> = entries
        .iter()
        .filter_map(|e| e.get(&key).copied().filter(|v| v.is_finite()))
        .collect();
    let available = !values.is_empty() || entries.is_empty();
    let sum: f64 = values.iter().sum();
    let shown = |v: f64| crate::food::nutrients::round_for_display(key, v);
    GoalProgress {
        target,
        value: available.then(|| shown(sum)),
        unit: key.unit().to_string(),
        remaining: available.then(|| shown((target - sum).max(0.0))),
        over: available.then(|| shown((sum - target).max(0.0))),
        available,
        lower_bound: available && values.len() < entries.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::food::model::Basis;
    use serde_json::json;

    use NutrientKey::*;

    fn date(text: &str) -> DiaryDate {
        DiaryDate::parse("date", text).unwrap()
    }

    fn food(id: &str, nutrients: &[(NutrientKey, f64)]) -> Food {
        Food {
            id: id.into(),
            source: Source::Usda,
            name: format!("Food {id}"),
            brand: None,
            category: None,
            data_type: None,
            basis: Basis::Per100g,
            nutrients: nutrients.iter().copied().collect(),
            portions: vec![],
            serving: None,
        }
    }

    fn entry(id: &str, day: &str, meal: Option<Meal>, food: Food, grams: f64) -> Entry {
        Entry {
            id: id.into(),
            date: date(day),
            time: None,
            meal,
            note: None,
            measure: Measure::of(&food, grams, Unit::G).unwrap().0,
            food,
            logged_at: 1_773_000_000,
            updated_at: 1_773_000_000,
        }
    }

    #[test]
    fn dates_are_strict_and_impossible_ones_say_why() {
        assert_eq!(date("2024-02-29").to_string(), "2024-02-29");
        let feb = DiaryDate::parse("date", "2026-02-30")
            .unwrap_err()
            .to_string();
        assert_eq!(
            feb,
            "date \"2026-02-30\" does not exist: February 2026 has 28 days"
        );
        let month = DiaryDate::parse("to", "2026-13-01")
            .unwrap_err()
            .to_string();
        assert!(month.starts_with("to \"2026-13-01\"") && month.contains("no month 13"));
        for bad in [
            "2026-2-3",
            "tomorrow",
            "2026/02/03",
            "20260203",
            "",
            "2026-02-03T00:00",
        ] {
            let err = DiaryDate::parse("date", bad).unwrap_err();
            assert!(matches!(err, DiaryError::DateFormat { .. }), "{bad}: {err}");
            assert!(err.to_string().contains("YYYY-MM-DD"));
        }
        assert!(DiaryDate::parse("date", "0000-01-01").is_err());
        assert!(
            DiaryDate::parse("date", "2025-04-31")
                .unwrap_err()
                .to_string()
                .contains("April 2025 has 30 days")
        );
    }

    #[test]
    fn times_are_hh_mm_on_a_24_hour_clock() {
        assert_eq!(
            ClockTime::parse("time", "07:05").unwrap().to_string(),
            "07:05"
        );
        assert_eq!(
            ClockTime::parse("time", "23:59").unwrap().to_string(),
            "23:59"
        );
        for bad in ["24:00", "7:30", "07:60", "07:30:00", "noon", "-1:00"] {
            let err = ClockTime::parse("time", bad).unwrap_err().to_string();
            assert!(err.contains("HH:MM"), "{bad}: {err}");
        }
    }

    #[test]
    fn ranges_hold_at_most_31_days_in_order() {
        let days = date("2026-01-15").through(date("2026-02-14")).unwrap();
        assert_eq!(days.len(), 31);
        assert_eq!(days[30].to_string(), "2026-02-14");
        assert_eq!(
            date("2026-03-01")
                .through(date("2026-03-01"))
                .unwrap()
                .len(),
            1
        );
        let long = date("2026-01-15").through(date("2026-02-15")).unwrap_err();
        assert_eq!(
            long.to_string(),
            "2026-01-15 to 2026-02-15 is 32 days; read at most 31 days at once (several calls for longer spans)"
        );
        assert!(matches!(
            date("2026-03-02").through(date("2026-03-01")),
            Err(DiaryError::RangeBackwards { .. })
        ));
    }

    #[test]
    fn today_follows_the_owners_time_zone() {
        // 2026-03-14T23:30:00Z: still the 14th in New York, already the 15th in Tokyo.
        let now = 1_773_531_000;
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let new_york = TimeZone::get("America/New_York").unwrap();
        let (day, time) = local_now(&tokyo, now);
        assert_eq!(
            (day.to_string(), time.to_string()),
            ("2026-03-15".into(), "08:30".into())
        );
        let (day, time) = local_now(&new_york, now);
        assert_eq!(
            (day.to_string(), time.to_string()),
            ("2026-03-14".into(), "19:30".into())
        );
        assert_eq!(local_now(&TimeZone::UTC, now).0.to_string(), "2026-03-14");
        assert_eq!(timestamp_text(now), "2026-03-14T23:30:00Z");
    }

    #[test]
    fn day_and_meal_totals_and_goals_come_from_unrounded_values() {
        // Three entries of 0.333 kcal each: rounding each first would give 0.9; the day is 1.0.
        let tiny = food(
            "1",
            &[
                (Calories, 333.0),
                (ProteinG, 0.4),
                (TotalCarbsG, 0.0),
                (TotalFatG, 0.0),
            ],
        );
        let entries = vec![
            entry("a", "2026-03-14", Some(Meal::Breakfast), tiny.clone(), 0.1),
            entry("b", "2026-03-14", Some(Meal::Breakfast), tiny.clone(), 0.1),
            entry("c", "2026-03-14", Some(Meal::Dinner), tiny.clone(), 0.1),
            entry("other day", "2026-03-15", Some(Meal::Lunch), tiny, 100.0),
        ];
        let goals: Goals = [(Calories, 1.0), (ProteinG, 0.5)].into();
        let day = summarize_day(date("2026-03-14"), &entries, &goals);
        assert_eq!(day.entries.len(), 3);
        assert_eq!(day.totals.0[&Calories].value, Some(1.0));
        assert_eq!(day.meals.breakfast.0[&Calories].value, Some(0.7));
        assert_eq!(day.meals.dinner.0[&Calories].value, Some(0.3));
        assert_eq!(day.meals.lunch.0[&Calories].value, Some(0.0));
        assert!(day.meals.unassigned.is_none());
        let calories = &day.goals[&Calories];
        assert_eq!(
            (calories.value, calories.remaining, calories.over),
            (Some(1.0), Some(0.0), Some(0.0))
        );
        let protein = &day.goals[&ProteinG];
        assert_eq!(
            (protein.value, protein.remaining, protein.over),
            (Some(0.0), Some(0.5), Some(0.0))
        );
        // 6.004 g twice is 12.008 g, 2.008 g over; from rounded entries (6.0 + 6.0) it would be 2.0.
        let over = progress(
            ProteinG,
            10.0,
            &[[(ProteinG, 6.004)].into(), [(ProteinG, 6.004)].into()],
        );
        assert_eq!(
            (over.value, over.remaining, over.over),
            (Some(12.01), Some(0.0), Some(2.01))
        );
    }

    #[test]
    fn goals_say_when_data_is_missing_and_an_empty_day_is_zeros() {
        let with_fiber = food("1", &[(Calories, 100.0), (FiberG, 10.0)]);
        let without = food("2", &[(Calories, 50.0)]);
        let entries = vec![
            entry("a", "2026-03-14", None, with_fiber, 100.0),
            entry("b", "2026-03-14", Some(Meal::Snack), without, 100.0),
        ];
        let goals: Goals = [(FiberG, 30.0), (SodiumMg, 2300.0)].into();
        let day = summarize_day(date("2026-03-14"), &entries, &goals);
        let fiber = &day.goals[&FiberG];
        assert_eq!((fiber.value, fiber.remaining), (Some(10.0), Some(20.0)));
        assert!(fiber.available && fiber.lower_bound);
        let sodium = &day.goals[&SodiumMg];
        assert_eq!(
            (sodium.value, sodium.remaining, sodium.over),
            (None, None, None)
        );
        assert!(!sodium.available && !sodium.lower_bound);
        let unassigned = day.meals.unassigned.as_ref().expect("an entry has no meal");
        assert_eq!(unassigned.0[&Calories].value, Some(100.0));
        assert_eq!(day.meals.snack.0[&Calories].value, Some(50.0));

        let empty = summarize_day(date("2026-03-16"), &entries, &goals);
        assert!(empty.entries.is_empty());
        assert_eq!(empty.totals.0[&Calories].value, Some(0.0));
        let json = serde_json::to_value(&empty).unwrap();
        assert_eq!(json["date"], "2026-03-16");
        assert_eq!(
            json["goals"]["fiber_g"],
            json!({ "target": 30.0, "value": 0.0, "unit": "g", "remaining": 30.0, "over": 0.0, "available": true, "lowerBound": false })
        );
        assert!(json["meals"].get("unassigned").is_none());
        assert_eq!(json["meals"]["breakfast"]["calories"]["value"], 0.0);
    }

    #[test]
    fn entries_are_in_eating_order() {
        let f = food("1", &[(Calories, 100.0)]);
        let mut late = entry("late", "2026-03-14", None, f.clone(), 1.0);
        late.time = Some(ClockTime::parse("time", "20:00").unwrap());
        let mut early = entry("early", "2026-03-14", None, f.clone(), 1.0);
        early.time = Some(ClockTime::parse("time", "07:00").unwrap());
        let untimed = entry("untimed", "2026-03-14", None, f, 1.0);
        let day = summarize_day(date("2026-03-14"), &[untimed, late, early], &Goals::new());
        let ids: Vec<_> = day.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["early", "late", "untimed"]);
        assert_eq!(day.nutrient_coverage.complete, vec![Calories]);
    }

    #[test]
    fn an_update_measures_again_from_the_snapshot() {
        let mut banana = food("173944", &[(Calories, 89.0), (PotassiumMg, 358.0)]);
        banana.portions.push(crate::food::model::Portion {
            amount: 1.0,
            unit: "medium".into(),
            modifier: None,
            description: "1 medium".into(),
            grams: 118.0,
            parsed: Default::default(),
        });
        let logged = entry("a", "2026-03-14", Some(Meal::Breakfast), banana, 100.0);
        let changes = EntryChanges {
            unit: Some(Unit::Medium),
            amount: Some(2.0),
            note: Some(parse_note("  after the run ").unwrap()),
            ..EntryChanges::default()
        };
        let updated = logged.updated(&changes, 1_773_000_100).unwrap();
        assert_eq!(updated.id, "a");
        assert_eq!(updated.measure.grams, Some(236.0));
        assert!((updated.measure.nutrients[&Calories] - 210.04).abs() < 1e-9);
        assert_eq!(updated.note.as_deref(), Some("after the run"));
        assert_eq!(
            (updated.logged_at, updated.updated_at),
            (1_773_000_000, 1_773_000_100)
        );
        assert_eq!(updated.food, logged.food, "the snapshot is kept");

        let only_meal = EntryChanges {
            meal: Some(Meal::Snack),
            ..EntryChanges::default()
        };
        let moved = logged.updated(&only_meal, 1).unwrap();
        assert_eq!(moved.measure, logged.measure);
        assert_eq!(moved.meal, Some(Meal::Snack));

        assert_eq!(
            logged.updated(&EntryChanges::default(), 1),
            Err(DiaryError::NothingToChange)
        );
        let slice = EntryChanges {
            unit: Some(Unit::Slice),
            ..EntryChanges::default()
        };
        assert!(
            logged
                .updated(&slice, 1)
                .unwrap_err()
                .to_string()
                .contains("\"slice\"")
        );
        let negative = EntryChanges {
            amount: Some(-1.0),
            ..EntryChanges::default()
        };
        assert!(
            logged
                .updated(&negative, 1)
                .unwrap_err()
                .to_string()
                .contains("positive")
        );
    }

    #[test]
    fn goals_merge_and_are_checked() {
        let goals = updated_goals(
            &Goals::new(),
            &[
                ("calories".into(), Some(2000.0)),
                ("protein_g".into(), Some(120.0)),
            ]
            .into(),
        )
        .unwrap();
        let goals = updated_goals(
            &goals,
            &[
                ("protein_g".into(), None),
                ("trans_fat_g".into(), Some(0.0)),
            ]
            .into(),
        )
        .unwrap();
        assert_eq!(goals, [(Calories, 2000.0), (TransFatG, 0.0)].into());
        let unknown = updated_goals(&goals, &[("kcal".into(), Some(1.0))].into()).unwrap_err();
        assert!(unknown.to_string().starts_with("unknown nutrient \"kcal\""));
        for bad in [-1.0, f64::NAN, 1e9] {
            let err = updated_goals(&goals, &[("calories".into(), Some(bad))].into()).unwrap_err();
            assert!(err.to_string().contains("goal for calories"), "{err}");
        }
        assert_eq!(
            updated_goals(&goals, &BTreeMap::new()),
            Err(DiaryError::NoGoals)
        );
        let json = serde_json::to_value(goal_targets(&goals)).unwrap();
        assert_eq!(
            json["calories"],
            json!({ "target": 2000.0, "unit": "kcal" })
        );
    }

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(parse_note("  ").unwrap(), None);
        assert_eq!(parse_note(" x ").unwrap().as_deref(), Some("x"));
        assert_eq!(parse_note(&"é".repeat(501)), Err(DiaryError::NoteTooLong));
    }

    #[test]
    fn the_day_schema_names_what_the_view_reads() {
        let schema = serde_json::to_value(schemars::schema_for!(DaySummary)).unwrap();
        assert_eq!(
            schema["required"],
            json!([
                "date",
                "entries",
                "meals",
                "totals",
                "nutrientCoverage",
                "goals"
            ])
        );
        assert_eq!(schema["properties"]["date"]["$ref"], "#/$defs/DiaryDate");
    }
}
