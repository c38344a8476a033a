//! What the catalog importer hands storage: the rows of a FoodData Central download, in batches.

use crate::food::model::Portion;
use crate::food::nutrients::NutrientKey;

pub struct FoodRow {
    pub fdc_id: i64,
    pub data_type: &'static str,
    pub description: String,
    pub category: Option<String>,
}

pub struct NutrientRow {
    pub fdc_id: i64,
    pub key: NutrientKey,
    /// Preference among the USDA numbers carrying `key` (0 = best).
    pub rank: usize,
    /// Per 100 g.
    pub amount: f64,
}

pub struct PortionRow {
    pub fdc_id: i64,
    pub seq: Option<i64>,
    pub portion: Portion,
}

/// Rows of one table, in file order; foods always arrive before their nutrients and portions.
pub enum Batch {
    Foods(Vec<FoodRow>),
    Nutrients(Vec<NutrientRow>),
    Portions(Vec<PortionRow>),
}
