//! The nutrients food-mcp knows: their public keys, units and USDA nutrient numbers.

use std::{borrow::Cow, collections::BTreeMap};

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// Nutrient amounts keyed by nutrient, in the nutrient's own unit ([`NutrientKey::unit`]).
/// A missing key means "no data" — never zero.
pub type Nutrients = BTreeMap<NutrientKey, f64>;

macro_rules! nutrient_keys {
    ($( $variant:ident => $key:literal, $unit:literal, [$($nbr:literal),*]; )*) => {
        /// A nutrient. The serialized name is the public key used in tool inputs and outputs.
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
        )]
        pub enum NutrientKey {
            $( #[serde(rename = $key)] $variant, )*
        }

        impl NutrientKey {
            /// Every nutrient, in display order (the four core nutrients first).
            pub const ALL: &'static [NutrientKey] = &[$(NutrientKey::$variant),*];

            /// The public key, e.g. `"protein_g"`.
            pub fn key(self) -> &'static str {
                match self { $(NutrientKey::$variant => $key,)* }
            }

            /// The unit amounts are expressed in: `kcal`, `g`, `mg` or `mcg`.
            pub fn unit(self) -> &'static str {
                match self { $(NutrientKey::$variant => $unit,)* }
            }

            /// USDA nutrient numbers (`nutrient.number` in the API, `nutrient_nbr` in the CSV) that
            /// carry this nutrient, most preferred first.
            pub fn usda_numbers(self) -> &'static [&'static str] {
                match self { $(NutrientKey::$variant => &[$($nbr),*],)* }
            }
        }
    };
}

nutrient_keys! {
    Calories => "calories", "kcal", ["208", "958", "957"];
    ProteinG => "protein_g", "g", ["203"];
    TotalCarbsG => "total_carbs_g", "g", ["205"];
    TotalFatG => "total_fat_g", "g", ["204"];
    FiberG => "fiber_g", "g", ["291"];
    SugarsG => "sugars_g", "g", ["269", "269.3"];
    AddedSugarsG => "added_sugars_g", "g", ["539"];
    SaturatedFatG => "saturated_fat_g", "g", ["606"];
    MonounsaturatedFatG => "monounsaturated_fat_g", "g", ["645"];
    PolyunsaturatedFatG => "polyunsaturated_fat_g", "g", ["646"];
    TransFatG => "trans_fat_g", "g", ["605"];
    CholesterolMg => "cholesterol_mg", "mg", ["601"];
    SodiumMg => "sodium_mg", "mg", ["307"];
    PotassiumMg => "potassium_mg", "mg", ["306"];
    CalciumMg => "calcium_mg", "mg", ["301"];
    IronMg => "iron_mg", "mg", ["303"];
    MagnesiumMg => "magnesium_mg", "mg", ["304"];
    PhosphorusMg => "phosphorus_mg", "mg", ["305"];
    ZincMg => "zinc_mg", "mg", ["309"];
    VitaminAMcg => "vitamin_a_mcg", "mcg", ["320"];
    VitaminCMg => "vitamin_c_mg", "mg", ["401"];
    VitaminDMcg => "vitamin_d_mcg", "mcg", ["328"];
    VitaminEMg => "vitamin_e_mg", "mg", ["323"];
    VitaminKMcg => "vitamin_k_mcg", "mcg", ["430"];
    ThiaminMg => "thiamin_mg", "mg", ["404"];
    RiboflavinMg => "riboflavin_mg", "mg", ["405"];
    NiacinMg => "niacin_mg", "mg", ["406"];
    VitaminB6Mg => "vitamin_b6_mg", "mg", ["415"];
    FolateMcg => "folate_mcg", "mcg", ["435"];
    VitaminB12Mcg => "vitamin_b12_mcg", "mcg", ["418"];
    WaterG => "water_g", "g", ["255"];
    CaffeineMg => "caffeine_mg", "mg", ["262"];
    AlcoholG => "alcohol_g", "g", ["221"];
}

impl NutrientKey {
    /// The nutrients every answer reports, with `available: false` when a food lacks them.
    pub const CORE: [NutrientKey; 4] = [
        NutrientKey::Calories,
        NutrientKey::ProteinG,
        NutrientKey::TotalCarbsG,
        NutrientKey::TotalFatG,
    ];

    /// Looks a public key up (`"protein_g"` → `ProteinG`).
    pub fn from_key(key: &str) -> Option<NutrientKey> {
        Self::ALL.iter().copied().find(|n| n.key() == key)
    }

    /// The nutrient a USDA nutrient number maps to, with its preference rank (0 = most preferred).
    pub fn from_usda_number(number: &str) -> Option<(NutrientKey, usize)> {
        Self::ALL.iter().find_map(|n| {
            n.usda_numbers()
                .iter()
                .position(|nbr| *nbr == number)
                .map(|rank| (*n, rank))
        })
    }
}

/// Rounds an amount for display: kcal to 1 decimal; g, mg and mcg to 2 decimals. Finer than any
/// label, coarse enough to hide float noise (105.02000000000001). Sum and scale first, round last.
pub fn round_for_display(key: NutrientKey, value: f64) -> f64 {
    let scale = if key.unit() == "kcal" { 10.0 } else { 100.0 };
    let rounded = (value * scale).round() / scale;
    if !rounded.is_finite() {
        value
    } else if rounded == 0.0 {
        0.0 // no "-0.0" in answers
    } else {
        rounded
    }
}

/// One nutrient in an answer: `{ "value": 133.5, "unit": "kcal", "available": true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NutrientAmount {
    /// The amount, rounded (kcal to 0.1, g/mg/mcg to 0.01); null when the food has no data.
    pub value: Option<f64>,
    /// `kcal`, `g`, `mg` or `mcg`: borrowed from the nutrient catalog, so building an answer
    /// allocates no unit string per nutrient.
    pub unit: Cow<'static, str>,
    /// False means the source has no data for this nutrient — never that it is zero.
    pub available: bool,
}

impl NutrientAmount {
    fn new(key: NutrientKey, value: Option<f64>) -> Self {
        NutrientAmount {
            value: value.map(|v| round_for_display(key, v)),
            unit: Cow::Borrowed(key.unit()),
            available: value.is_some(),
        }
    }
}

/// Per-nutrient values keyed by public nutrient key, in catalog order. The JSON Schema names every
/// key and requires the four [`NutrientKey::CORE`] nutrients, which every answer carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NutrientMap<V>(pub BTreeMap<NutrientKey, V>);

/// The `nutrients` object of an answer: the four core nutrients always (unavailable when missing),
/// then every other nutrient the food has.
pub type NutrientReport = NutrientMap<NutrientAmount>;

impl NutrientReport {
    /// Builds the report from unrounded amounts, rounding each for display. Non-finite amounts are
    /// treated as "no data".
    pub fn from_nutrients(nutrients: &Nutrients) -> Self {
        let mut map: BTreeMap<NutrientKey, NutrientAmount> = NutrientKey::CORE
            .iter()
            .map(|k| (*k, NutrientAmount::new(*k, None)))
            .collect();
        for (key, value) in nutrients.iter().filter(|(_, v)| v.is_finite()) {
            map.insert(*key, NutrientAmount::new(*key, Some(*value)));
        }
        NutrientMap(map)
    }
}

impl<V: JsonSchema> JsonSchema for NutrientMap<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("NutrientMap_of_{}", V::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<V>();
        let properties: serde_json::Map<String, serde_json::Value> = NutrientKey::ALL
            .iter()
            .map(|k| (k.key().to_string(), value.clone().to_value()))
            .collect();
        let required: Vec<&str> = NutrientKey::CORE.iter().map(|k| k.key()).collect();
        schemars::json_schema!({
            "type": "object",
            "description": "Nutrients by key; calories, protein_g, total_carbs_g and total_fat_g are always present.",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        for n in NutrientKey::ALL {
            assert_eq!(NutrientKey::from_key(n.key()), Some(*n));
            let json = serde_json::to_string(n).unwrap();
            assert_eq!(json, format!("\"{}\"", n.key()));
        }
        let mut keys: Vec<_> = NutrientKey::ALL.iter().map(|n| n.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), NutrientKey::ALL.len());
    }

    #[test]
    fn energy_prefers_208_then_atwater_specific_then_general() {
        assert_eq!(
            NutrientKey::from_usda_number("208"),
            Some((NutrientKey::Calories, 0))
        );
        assert_eq!(
            NutrientKey::from_usda_number("958"),
            Some((NutrientKey::Calories, 1))
        );
        assert_eq!(
            NutrientKey::from_usda_number("957"),
            Some((NutrientKey::Calories, 2))
        );
        assert_eq!(
            NutrientKey::from_usda_number("268"),
            None,
            "kJ energy is not kcal"
        );
    }

    #[test]
    fn rounding_is_one_decimal_for_kcal_two_for_masses() {
        assert_eq!(
            round_for_display(NutrientKey::Calories, 105.02000000000001),
            105.0
        );
        assert_eq!(round_for_display(NutrientKey::Calories, 133.46), 133.5);
        assert_eq!(round_for_display(NutrientKey::ProteinG, 1.2862), 1.29);
        assert_eq!(round_for_display(NutrientKey::SodiumMg, 0.004), 0.0);
        assert_eq!(round_for_display(NutrientKey::VitaminB12Mcg, 0.456), 0.46);
        assert!(round_for_display(NutrientKey::FiberG, -0.001).is_sign_positive());
        assert_eq!(round_for_display(NutrientKey::FiberG, 1e307), 1e307);
    }

    #[test]
    fn report_always_has_the_core_and_marks_missing_as_unavailable() {
        let nutrients: Nutrients = [
            (NutrientKey::Calories, 105.02000000000001),
            (NutrientKey::PotassiumMg, 422.44),
            (NutrientKey::FiberG, f64::NAN),
        ]
        .into();
        let report = NutrientReport::from_nutrients(&nutrients);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "calories": { "value": 105.0, "unit": "kcal", "available": true },
                "protein_g": { "value": null, "unit": "g", "available": false },
                "total_carbs_g": { "value": null, "unit": "g", "available": false },
                "total_fat_g": { "value": null, "unit": "g", "available": false },
                "potassium_mg": { "value": 422.44, "unit": "mg", "available": true },
            })
        );
        let keys: Vec<NutrientKey> = report.0.keys().copied().collect();
        assert_eq!(&keys[..4], &NutrientKey::CORE, "catalog order, core first");
        let back: NutrientReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn report_schema_names_every_key_and_requires_the_core() {
        let schema = serde_json::to_value(schemars::schema_for!(NutrientReport)).unwrap();
        assert_eq!(
            schema["required"],
            serde_json::json!(["calories", "protein_g", "total_carbs_g", "total_fat_g"])
        );
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(properties.len(), NutrientKey::ALL.len());
        assert!(properties.contains_key("vitamin_b12_mcg"));
    }
}
