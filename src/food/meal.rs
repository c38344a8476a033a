//! Meal arithmetic: totals summed from unrounded item amounts, and which nutrients every item had.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::food::nutrients::{NutrientKey, NutrientMap, Nutrients, round_for_display};

/// The total of one nutrient over a meal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MealTotal {
    /// Sum over the items that have data, rounded for display after summing; null when no item
    /// has data.
    pub value: Option<f64>,
    /// `kcal`, `g`, `mg` or `mcg`.
    pub unit: String,
    /// False means no item has data for this nutrient — never that the meal has none of it.
    pub available: bool,
    /// True when some items lack data for this nutrient: the meal's real total is at least `value`.
    pub lower_bound: bool,
}

/// A nutrient only some items had, and which items lack it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartialNutrient {
    pub nutrient: NutrientKey,
    /// Zero-based indexes into the meal's `items`, in request order.
    pub missing_from: Vec<usize>,
}

/// Which totals are complete and which are lower bounds, so an answer never passes a partial sum
/// off as the whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NutrientCoverage {
    /// Nutrients every item had: their totals are complete.
    pub complete: Vec<NutrientKey>,
    /// Nutrients only some items had: their totals are lower bounds.
    pub partial: Vec<PartialNutrient>,
    /// Core nutrients no item had: their totals are unavailable.
    pub missing: Vec<NutrientKey>,
}

/// A meal's `totals` and `nutrientCoverage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MealSummary {
    /// The four core nutrients always, then every nutrient at least one item had.
    pub totals: NutrientMap<MealTotal>,
    pub nutrient_coverage: NutrientCoverage,
}

/// Sums the items' scaled, unrounded nutrients (rounding each item first would drift the total)
/// and reports coverage. A non-finite amount counts as "no data". An empty meal totals zero.
pub fn summarize(items: &[Nutrients]) -> MealSummary {
    let mut keys: Vec<NutrientKey> = NutrientKey::CORE.to_vec();
    keys.extend(
        items
            .iter()
            .flat_map(|item| item.iter())
            .filter(|(_, v)| v.is_finite())
            .map(|(k, _)| *k),
    );
    keys.sort();
    keys.dedup();

    let mut totals = BTreeMap::new();
    let mut coverage = NutrientCoverage {
        complete: Vec::new(),
        partial: Vec::new(),
        missing: Vec::new(),
    };
    for key in keys {
        let mut sum = 0.0;
        let mut missing_from = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match item.get(&key).filter(|v| v.is_finite()) {
                Some(v) => sum += v,
                None => missing_from.push(index),
            }
        }
        let available = missing_from.len() < items.len() || items.is_empty();
        let lower_bound = available && !missing_from.is_empty();
        totals.insert(
            key,
            MealTotal {
                value: available.then(|| round_for_display(key, sum)),
                unit: key.unit().to_string(),
                available,
                lower_bound,
            },
        );
        if !available {
            coverage.missing.push(key);
        } else if lower_bound {
            coverage.partial.push(PartialNutrient {
                nutrient: key,
                missing_from,
            });
        } else {
            coverage.complete.push(key);
        }
    }
    MealSummary {
        totals: NutrientMap(totals),
        nutrient_coverage: coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use NutrientKey::*;

    #[test]
    fn totals_sum_unrounded_values() {
        // Three items of 0.333 kcal: rounding each first would give 0.9, the sum is 1.0.
        let item: Nutrients = [
            (Calories, 0.333),
            (ProteinG, 0.004),
            (TotalCarbsG, 1.0),
            (TotalFatG, 0.0),
        ]
        .into();
        let summary = summarize(&[item.clone(), item.clone(), item]);
        let calories = &summary.totals.0[&Calories];
        assert_eq!(calories.value, Some(1.0));
        assert!(calories.available && !calories.lower_bound);
        assert_eq!(summary.totals.0[&ProteinG].value, Some(0.01));
        assert_eq!(summary.totals.0[&TotalFatG].value, Some(0.0));
        assert_eq!(
            summary.nutrient_coverage.complete,
            vec![Calories, ProteinG, TotalCarbsG, TotalFatG]
        );
        assert!(summary.nutrient_coverage.partial.is_empty());
        assert!(summary.nutrient_coverage.missing.is_empty());
    }

    #[test]
    fn partial_nutrients_are_lower_bounds_naming_the_items_without_them() {
        let banana: Nutrients = [
            (Calories, 105.02),
            (ProteinG, 1.29),
            (TotalCarbsG, 26.95),
            (TotalFatG, 0.39),
            (PotassiumMg, 422.0),
        ]
        .into();
        let bar: Nutrients = [(Calories, 190.0), (ProteinG, 10.0), (SodiumMg, 150.0)].into();
        let coffee: Nutrients = [(Calories, 2.4), (CaffeineMg, f64::NAN)].into();
        let summary = summarize(&[banana, bar, coffee]);
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(
            json["totals"]["calories"],
            json!({ "value": 297.4, "unit": "kcal", "available": true, "lowerBound": false })
        );
        assert_eq!(
            json["totals"]["total_fat_g"],
            json!({ "value": 0.39, "unit": "g", "available": true, "lowerBound": true })
        );
        assert_eq!(json["totals"]["sodium_mg"]["lowerBound"], json!(true));
        assert!(
            json["totals"].get("caffeine_mg").is_none(),
            "NaN is no data"
        );
        assert_eq!(
            json["nutrientCoverage"],
            json!({
                "complete": ["calories"],
                "partial": [
                    { "nutrient": "protein_g", "missingFrom": [2] },
                    { "nutrient": "total_carbs_g", "missingFrom": [1, 2] },
                    { "nutrient": "total_fat_g", "missingFrom": [1, 2] },
                    { "nutrient": "sodium_mg", "missingFrom": [0, 2] },
                    { "nutrient": "potassium_mg", "missingFrom": [1, 2] },
                ],
                "missing": [],
            })
        );
    }

    #[test]
    fn a_core_nutrient_no_item_has_is_unavailable_not_zero() {
        let summary = summarize(&[[(Calories, 50.0)].into(), [(Calories, 20.0)].into()]);
        let fat = &summary.totals.0[&TotalFatG];
        assert_eq!(fat.value, None);
        assert!(!fat.available && !fat.lower_bound);
        assert_eq!(
            summary.nutrient_coverage.missing,
            vec![ProteinG, TotalCarbsG, TotalFatG]
        );
        assert_eq!(summary.nutrient_coverage.complete, vec![Calories]);
    }

    #[test]
    fn an_empty_meal_totals_zero() {
        let summary = summarize(&[]);
        assert_eq!(summary.totals.0.len(), 4);
        assert!(
            summary
                .totals
                .0
                .values()
                .all(|t| t.value == Some(0.0) && t.available && !t.lower_bound)
        );
        assert_eq!(summary.nutrient_coverage.complete.len(), 4);
    }

    #[test]
    fn schema_is_generated() {
        let schema = serde_json::to_value(schemars::schema_for!(MealSummary)).unwrap();
        assert!(schema["properties"]["nutrientCoverage"].is_object());
        assert_eq!(schema["required"], json!(["totals", "nutrientCoverage"]));
    }
}
