//! Units a tool accepts, and the conversion of `amount unit` of a food into grams or servings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A unit a person measures food in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Unit {
    #[serde(rename = "g", alias = "gram", alias = "grams")]
    G,
    #[serde(rename = "kg")]
    Kg,
    #[serde(rename = "oz", alias = "ounce", alias = "ounces")]
    Oz,
    #[serde(rename = "lb", alias = "lbs", alias = "pound", alias = "pounds")]
    Lb,
    #[serde(rename = "mL", alias = "ml")]
    Ml,
    #[serde(rename = "L", alias = "l")]
    L,
    #[serde(rename = "tsp", alias = "teaspoon")]
    Tsp,
    #[serde(rename = "tbsp", alias = "tablespoon")]
    Tbsp,
    #[serde(rename = "fl_oz", alias = "fl oz")]
    FlOz,
    #[serde(rename = "cup", alias = "cups")]
    Cup,
    #[serde(rename = "piece", alias = "pieces", alias = "each", alias = "item")]
    Piece,
    #[serde(rename = "slice", alias = "slices")]
    Slice,
    #[serde(rename = "small")]
    Small,
    #[serde(rename = "medium")]
    Medium,
    #[serde(rename = "large")]
    Large,
    #[serde(rename = "serving", alias = "servings")]
    Serving,
}
