//! The food record every source is normalized into, and the summaries search returns.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::food::nutrients::Nutrients;
use crate::food::portion::Parsed;
use crate::food::search::Analysed;
use crate::food::units::Unit;

/// Where a food's data comes from. The same numeric id means different foods in different sources,
/// so a food is always addressed by `(source, id)`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// USDA FoodData Central (API or the offline catalog); ids are FDC ids such as "173944".
    Usda,
    /// Open Food Facts; ids are barcodes such as "3017620422003".
    Openfoodfacts,
    /// Foods the owner saved with `save_food`; ids look like "custom:1a2b3c4d5e6f7a8b".
    Custom,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::Custom, Source::Usda, Source::Openfoodfacts];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Usda => "usda",
            Source::Openfoodfacts => "openfoodfacts",
            Source::Custom => "custom",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the nutrient amounts of a [`Food`] refer to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Basis {
    /// Amounts per 100 g of the food (USDA, Open Food Facts, custom foods saved by weight).
    Per100g,
    /// Amounts per one serving of `amount` `unit` (custom foods saved by volume or by piece,
    /// whose weight is unknown): they scale only within the serving's unit family.
    PerServing { amount: f64, unit: Unit },
}

/// One household measure of a food with its weight, e.g. "1 cup" = 244 g, "1 medium" = 118 g.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Portion {
    /// How many `unit`s the portion is ("0.5 cup" → 0.5).
    pub amount: f64,
    /// The measure as the source names it, lower-case: "cup", "tbsp", "fl oz", "slice", "medium",
    /// "extra large", "fruit", "steak"... (USDA `measure_unit.name`, else the measure
    /// [`crate::food::portion::parse`] reads from the portion's text).
    pub unit: String,
    /// The source's qualifier, e.g. `medium (7" to 7-7/8" long)`, "chopped", "sliced".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modifier: Option<String>,
    /// A person-readable description, e.g. `1 medium (7" to 7-7/8" long)`.
    pub description: String,
    /// Weight of the whole portion in grams.
    pub grams: f64,
    /// The texts above as unit resolution reads them, read once ([`Portion::measures`]); not
    /// stored. Build it with `Parsed::default()`.
    #[serde(skip)]
    pub parsed: Parsed,
}

/// The serving a label or the owner defines ("1 bar (40 g)", "1 cup").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Serving {
    pub amount: f64,
    /// The unit as given ("g", "ml", "cup", "piece"...).
    pub unit: String,
    /// Weight of one serving in grams when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<f64>,
    pub description: String,
}

/// A food normalized from any source. Nutrient amounts refer to `basis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Food {
    pub id: String,
    pub source: Source,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// USDA data type ("Foundation", "SR Legacy", "Survey (FNDDS)", "Branded") when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    pub basis: Basis,
    pub nutrients: Nutrients,
    #[serde(default)]
    pub portions: Vec<Portion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<Serving>,
}

/// One search result before ranking across sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FoodSummary {
    /// Pass this as `foodId` (with `source`) to get_nutrition / calculate_meal.
    pub id: String,
    pub source: Source,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// USDA data type when known ("Foundation", "SR Legacy", "Survey (FNDDS)", "Branded").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// Calories per 100 g when the source's search result carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calories_per_100g: Option<f64>,
    /// The name and brand as ranking reads them, made once ([`Analysed`]); not stored. Build it
    /// with `Default::default()`.
    #[serde(skip)]
    pub analysis: Analysed,
    /// How many household measures (cup, slice, medium…) the source lists for the food, when its
    /// search knows (the offline catalog does; 0 otherwise). Ranking reads it as how everyday the
    /// food is; not stored.
    #[serde(skip)]
    pub household_measures: usize,
}
