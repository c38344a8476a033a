//! Tool inputs and outputs. Field descriptions become the JSON Schemas a model reads, so they
//! teach how to call each tool: units, examples, what ids look like.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::actors::food_cache::Freshness;
use crate::food::meal::{MealTotal, NutrientCoverage};
use crate::food::model::Source;
use crate::food::nutrients::{NutrientMap, NutrientReport};
use crate::food::search::RankedFood;
use crate::food::units::Unit;

/// Which sources `search_food` asks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceFilter {
    /// Saved foods, USDA and Open Food Facts together.
    #[default]
    All,
    /// USDA FoodData Central: generic and branded US foods.
    Usda,
    /// Open Food Facts: packaged products worldwide, by name or barcode.
    Openfoodfacts,
    /// Only foods saved with save_food.
    Custom,
}

impl SourceFilter {
    pub fn sources(self) -> Vec<Source> {
        match self {
            SourceFilter::All => Source::ALL.to_vec(),
            SourceFilter::Usda => vec![Source::Usda],
            SourceFilter::Openfoodfacts => vec![Source::Openfoodfacts],
            SourceFilter::Custom => vec![Source::Custom],
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchFoodInput {
    /// What to look for, in plain words: "banana", "whole milk", "greek yogurt plain",
    /// a brand and product ("nutella"), or a barcode ("3017620422003").
    pub query: String,
    /// Which sources to search; default "all". Saved (custom) foods always rank first.
    #[serde(default)]
    pub source: SourceFilter,
    /// How many results to return, 1–50; default 10.
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchFoodOutput {
    /// Best first; pass a result's `id` and `source` to get_nutrition or calculate_meal.
    /// `matchScore` means the same for every source: ≥ 0.8 the food the query names, 0.7–0.8
    /// very likely it, 0.5–0.7 related only, < 0.5 not it.
    pub results: Vec<RankedFood>,
    /// True when no result reaches 0.7: nothing found is the food asked for (e.g. a dish the
    /// sources do not hold). Do not present the closest result as that food.
    pub no_confident_match: bool,
    /// "fresh" (fetched now), "cached", or "stale" (a source failed; older data shown).
    pub data_freshness: Freshness,
    /// Sources that failed or served stale data, and other caveats.
    pub warnings: Vec<String>,
}

/// One food and how much of it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FoodAmount {
    /// The `id` from search_food: an FDC id such as "173944" (usda), a barcode (openfoodfacts),
    /// or "custom:…" (custom).
    #[serde(deserialize_with = "id_text")]
    pub food_id: String,
    /// The `source` from search_food.
    pub source: Source,
    /// How much, in `unit`: e.g. 150 (g), 1 (cup), 2 (large), 0.5 (serving).
    pub amount: f64,
    /// Weight: g, kg, oz, lb. Volume (US): mL, L, tsp, tbsp, fl_oz, cup — converted with the
    /// food's own portion weights. Portions: piece, slice, small, medium, large — from the food's
    /// portion list. serving — the food's defined serving. Prefer g when the weight is known.
    pub unit: Unit,
}

/// An id given as a string, or as the JSON number a client made of a numeric one (a command line's
/// `foodId=173944`): whole numbers are kept as their digits. The schema still says string, the one
/// spelling every client reads.
fn id_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct IdText;
    impl serde::de::Visitor<'_> for IdText {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an id from search_food, a string such as \"173944\"")
        }

        fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<String, E> {
            Ok(id.to_string())
        }

        fn visit_u64<E: serde::de::Error>(self, id: u64) -> Result<String, E> {
            Ok(id.to_string())
        }

        fn visit_i64<E: serde::de::Error>(self, id: i64) -> Result<String, E> {
            u64::try_from(id)
                .map(|id| id.to_string())
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(id), &self))
        }

        fn visit_f64<E: serde::de::Error>(self, id: f64) -> Result<String, E> {
            // 173944.0 is still 173944; 1.5 is no id. Below 2^53 every whole f64 is exact.
            if id.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&id) {
                Ok(format!("{id:.0}"))
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(id), &self))
            }
        }
    }
    deserializer.deserialize_any(IdText)
}

pub type GetNutritionInput = FoodAmount;

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NutritionOutput {
    pub food_id: String,
    pub source: Source,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    pub amount: f64,
    pub unit: Unit,
    /// The weight the amount stands for; absent only for foods saved per volume or piece without
    /// a weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grams: Option<f64>,
    /// How the amount was converted, e.g. `1 cup = 244 g (USDA portion "1 cup")`.
    pub serving_description: String,
    /// calories, protein_g, total_carbs_g and total_fat_g always; every other nutrient the source
    /// has. `available: false` means no data, never zero.
    pub nutrients: NutrientReport,
    pub data_freshness: Freshness,
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CalculateMealInput {
    /// The foods eaten, 1–100 items, each as in get_nutrition.
    pub items: Vec<FoodAmount>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalculateMealOutput {
    /// Each item's own breakdown, in input order.
    pub items: Vec<NutritionOutput>,
    /// Sums of the unrounded item values, then rounded; `lowerBound` where some items lack data.
    pub totals: NutrientMap<MealTotal>,
    /// Which nutrients every item had, and which only some (their totals are lower bounds).
    pub nutrient_coverage: NutrientCoverage,
    pub data_freshness: Freshness,
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServingSizeInput {
    /// How much the nutrient values refer to, e.g. 100 (g), 1 (cup), 1 (piece).
    pub amount: f64,
    /// Any unit of get_nutrition except "serving".
    pub unit: Unit,
    /// Weight of this serving in grams, when known (e.g. a label's "1 cup (228 g)"). Lets a food
    /// saved per cup or per piece also be measured by weight.
    #[serde(default)]
    pub grams: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaveFoodInput {
    /// The food's name, e.g. "Overnight oats" or "Protein bar, chocolate"; 1–200 characters.
    /// Saving the same name and brand again (any letter case) updates that food.
    pub name: String,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// What the nutrient values below refer to.
    pub serving_size: ServingSizeInput,
    /// Nutrient amounts in that serving, keyed by nutrient: calories (kcal), protein_g,
    /// total_carbs_g, total_fat_g, fiber_g, sugars_g, added_sugars_g, saturated_fat_g,
    /// monounsaturated_fat_g, polyunsaturated_fat_g, trans_fat_g, cholesterol_mg, sodium_mg,
    /// potassium_mg, calcium_mg, iron_mg, magnesium_mg, phosphorus_mg, zinc_mg, vitamin_a_mcg,
    /// vitamin_c_mg, vitamin_d_mcg, vitamin_e_mg, vitamin_k_mcg, thiamin_mg, riboflavin_mg,
    /// niacin_mg, vitamin_b6_mg, folate_mcg, vitamin_b12_mcg, water_g, caffeine_mg, alcohol_g.
    /// Example: {"calories": 250, "protein_g": 10, "total_carbs_g": 30, "total_fat_g": 9}.
    pub nutrients: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaveFoodOutput {
    /// Use with source "custom" in get_nutrition and calculate_meal.
    pub id: String,
    pub source: Source,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// True when a food with this name and brand existed and was replaced.
    pub updated: bool,
    /// How the values are stored, e.g. "per 100 g" or "per 1 cup".
    pub stored_as: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn food_id(id: serde_json::Value) -> Result<String, String> {
        serde_json::from_value::<FoodAmount>(
            json!({"foodId": id, "source": "usda", "amount": 1, "unit": "g"}),
        )
        .map(|item| item.food_id)
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_food_id_may_be_a_string_or_a_whole_number() {
        assert_eq!(food_id(json!("173944")).unwrap(), "173944");
        assert_eq!(food_id(json!("custom:ab12")).unwrap(), "custom:ab12");
        assert_eq!(food_id(json!(173944)).unwrap(), "173944");
        assert_eq!(food_id(json!(3017620422003_u64)).unwrap(), "3017620422003");
        assert_eq!(food_id(json!(173944.0)).unwrap(), "173944");
        for bad in [json!(1.5), json!(-3), json!(true), json!(null)] {
            let err = food_id(bad.clone()).unwrap_err();
            assert!(err.contains("a string such as \"173944\""), "{bad}: {err}");
        }
    }
}
